"""placeholder"""
def report(reading, options):
    raise NotImplementedError
