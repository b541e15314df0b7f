# Hotpath: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
# Debian's interpreter sees python3-* packages (flask, django...); a python3 earlier on PATH may not.
PYTHON ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3)
export PYTHON

.PHONY: install build test typecheck format format-check demo bench pack clean

node_modules/.install-stamp: package.json package-lock.json packages/*/package.json
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	touch $@

install: node_modules/.install-stamp

build: install
	@if [ -f packages/ui/vite.config.ts ]; then npm run build -w packages/ui --silent; fi

typecheck: install
	@for p in core server cli ui; do npx tsc -p packages/$$p --noEmit || exit 1; done

format: install
	npx prettier --write .

format-check: install
	npx prettier --check .

test: build
	node scripts/test-all.mjs

demo: build
	npx hotpath demo

bench: install
	node bench/run.mjs $(B)

# dist/hotpath-<version>.tgz (npm install -g it: the `hotpath` command, compiled) and the SDK's wheel.
pack: build
	node scripts/pack.mjs

clean:
	rm -rf node_modules packages/*/node_modules packages/ui/dist test-output
