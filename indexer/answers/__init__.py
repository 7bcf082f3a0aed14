"""Answers to the user's questions: who is named (``people``), which photos show them and what one photo
holds (``photos``), how the index stands (``status``), the groups of unnamed faces (``clusters``), who is in
any photo (``whois``) and which faces look alike (``similar``). They only read."""
