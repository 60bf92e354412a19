"""What the head of sales' dashboard shows, read from the stored totals: one module per
feature (the team table, the attention list, the poll's digest, since the last visit, the
drill-down into one manager, why a figure is red, how a figure was computed).

Every selector here runs a fixed number of queries whatever the team size or the length of
the history: it reads whole sets (all the viewer's managers, all their totals of a window)
and assembles them in Python.
"""
