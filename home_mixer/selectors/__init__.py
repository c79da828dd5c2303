"""Selector: X's TopKScoreSelector (sort by final score, None last, keep the top 50)."""
