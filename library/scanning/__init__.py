"""Reading the library folder: walking and grouping files, parsing names, reading tags.

Pure file and text work, no database; ``library.services.scan`` turns the results into books.
"""
