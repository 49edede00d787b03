"""Reading what clinicians type: scope, trials, the lexicon, short answers, the identifier guard."""
