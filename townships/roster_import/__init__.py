"""The roster importer, one subject a module: ``columns`` (the header), ``rows`` (each cell's
check), ``places`` (county, township, committee), ``importer`` (the run, all rows or none),
``writes`` (the fast insert and what an apply replaced), ``people`` (the preview's lists),
``undo``, ``workbooks`` (error list and template). Batches are ``townships/importers.py``'s."""
