# Shortcuts for the commands in README.md; `make` alone lists them.
.DEFAULT_GOAL := help
.PHONY: help run test lint format migrate bench

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## Run the bot with the settings in .env (installs uv and packages if missing)
	scripts/run.sh

test: ## Run the whole test suite on SQLite and PostgreSQL
	scripts/test.sh

lint: ## Check style and types: ruff check, ruff format --check, mypy
	uv run ruff check . && uv run ruff format --check . && uv run mypy

format: ## Reformat the code and apply safe lint fixes
	uv run ruff format . && uv run ruff check --fix .

migrate: ## Bring the database schema up to date, then exit
	uv run vizteh-bot migrate

bench: ## Run the benchmark in benchmarks/ and print its figures
	uv run python benchmarks/bench_flow.py
