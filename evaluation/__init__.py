"""Quality evaluation: each stage scored on labelled data (`newsdesk eval <stage>`, the gates in tests/evaluation/).

One module per stage (extraction, entities, quotes, duplicates, language) plus the lexicon
derivation from PolNeAR's training half (train_quotes). Timings live in bench/, never here.
Needs the `eval` extra (scipy, for the entity clustering's alignment): pip install 'newsdesk[eval]'.
"""
