"""Many calls: annotating a folder of them (resumable, in processes or on Dask), and the Parquet store of their results."""
