# Shortcuts; the README's commands are the scripts themselves (no make needed).
.PHONY: demo test bench
demo:
	bash scripts/demo
test:
	bash scripts/test
bench:
	bash scripts/bench
