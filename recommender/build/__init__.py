"""The build side: the pipeline stages shared by ``fit`` and ``update``, the neighbour search, pools, Dask."""
