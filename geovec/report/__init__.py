"""What people read: figures (:mod:`.figures`), montages (:mod:`.montage`), result files
(:mod:`.results`), the demo's HTML report (:mod:`.html`) and terminal text
(:mod:`.terminal`)."""
