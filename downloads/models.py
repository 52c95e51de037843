"""Downloads, the MAM client and qBittorrent arrive with the acquisition issue."""
