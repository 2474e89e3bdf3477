"""The simulated Lambda service: virtual time, functions, environments, invocations.

Pure Python. It imports no UI, reads no wall clock, and does no I/O except running handler
code in its sandbox. Everything it does is recorded in its trace.
"""
