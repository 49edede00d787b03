"""The consultation: the state machine of one consult, the intake script's next question, what changed."""
