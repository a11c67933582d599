// Placeholder until the load test lands (issue #9).
print("dvic-loadtest: not built yet")
