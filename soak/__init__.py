"""Long reliability runs (`make soak`): load, fuzzing and hostile media at full length.

`make test` runs the short version of each; these run them long enough to report figures, which
`docs/RELIABILITY.md` quotes.
"""
