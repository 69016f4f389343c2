"""Search service: the denormalised customer index built from the other services' events; conditions, counts, lists, exports."""
