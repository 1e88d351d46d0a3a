# socklab — the commands a student, an instructor and CI use. `make help` lists them.
# On first use this creates .venv (Python 3.10+) with socklab installed (only what running a lab
# needs; the targets that need more install their extra: dev, instructor, demo), and builds the images.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SOCKLAB = $(BIN)/socklab
PROJECT ?= socklab-dev
# make lab-N options: CODE=dir (code to check), BAD=name (a known-wrong submission), CHECK=name, SEED=n
# LANG=zh_CN (on make's command line only: the environment's LANG is the locale, read anyway)
LANG_ARG = $(if $(filter command line,$(origin LANG)),--lang $(LANG))
RUN_ARGS = $(if $(CODE),--code $(CODE)) $(if $(BAD),--bad $(BAD)) $(if $(CHECK),-k $(CHECK)) $(if $(SEED),--seed $(SEED)) \
           $(if $(WATCH),--watch) \
           $(LANG_ARG)
# two workers: most of an integration test is waiting for containers and the network
PYTEST_ARGS ?= -n 2

.PHONY: help venv images test test-unit lint bench demo up shell watch down clean clean-images labs grade \
        grade-all export-student doctor i18n

help:
	@echo "make lab-N         run lab N's checker (CODE=dir to check your own code; CHECK=name for one check;"
	@echo "                   WATCH=1 to check again at each save; LANG=zh_CN for the report in Chinese)"
	@echo "make grade LAB=N CODE=dir [FORMAT=gradescope|classroom|junit|prairielearn|json|summary OUT=file]"
	@echo "                   grade a submission, hidden checks included"
	@echo "make grade-all LAB=N DIR=submissions [JOBS=K OUT=dir FORMAT=f,.. REDO=1 HOSTS=user@a,user@b REUSE=1]"
	@echo "                   [ROSTER=roster.csv ASSIGNMENT=\"Lab 1\"]"
	@echo "                   grade a folder of submissions (one sub-folder per student), K at a time;"
	@echo "                   writes gradebook.csv, canvas.csv and moodle.csv (ROSTER: who is whose;"
	@echo "                   REUSE=1: one network per job for the whole batch, reset between students)"
	@echo "make export-student DIR=dir [LABS=1,4] [LANG=zh_CN]"
	@echo "                   write the repository students receive (no solutions, hidden checks, bad/)"
	@echo "make labs          the labs, their points and what each runs (socklab labs --json for scripts)"
	@echo "make test          the project's own test suite (unit + integration against real containers)"
	@echo "make test-unit     only the tests that need no Docker"
	@echo "make lint          ruff (its rules and its format) and mypy over the code"
	@echo "make i18n          extract the messages, update and compile the translations (socklab/locale, locale/)"
	@echo "make venv          the student's virtualenv (.venv: what make lab-N needs, nothing more)"
	@echo "make images        build every image the labs need (cached; rebuilt when their inputs change)"
	@echo "make doctor        what this machine supports (Docker, Compose, registry, NFQUEUE, disk), and how to fix"
	@echo "make up LAB=N      start lab N's network and leave it up; then make shell S=client|server|router,"
	@echo "                   make watch (tcpdump on the router), make down;"
	@echo "                   .venv/bin/socklab impair show|set|reset|stats|log changes or reads its link"
	@echo "make bench         measure; writes docs/benchmarks.md and docs/benchmarks.json [SUITES=\"reliability:6,7 impair\"]"
	@echo "make demo          TCP vs UDP through a lossy router: a table, runs/demo/tcp-vs-udp.csv and .png"
	@echo "                   [CC=reno|cubic|bbr or CC=reno,bbr to compare; LOSS_ON=data|both; CC_LIST=1]"
	@echo "                   [LOSSES=0,1,5,10,20,30 DELAY=ms SEED=n SIZE=bytes OUT=dir]"
	@echo "make clean         remove every container and network socklab created (make clean-images: images too)"

PY_CHECK = import sys; v = sys.version_info; sys.exit(v < (3, 10) and \
  f"socklab needs Python 3.10 or newer, and $(PYTHON) is {v.major}.{v.minor}: pick another with make PYTHON=python3.11")

venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "socklab: no $(PYTHON) here: install Python 3.10+, or pick one with make PYTHON=python3.11"; exit 1; }
	@$(PYTHON) -c '$(PY_CHECK)'
	@$(PYTHON) -m venv $(VENV) || { echo "socklab: $(PYTHON) cannot make a virtualenv: sudo apt-get install python3-venv (Debian, Ubuntu)"; exit 1; }
	$(BIN)/pip install --quiet -e .
	@rm -f $(BIN)/.installed-*
	@touch $@

# an extra on top of the student install: make test installs dev, make grade-all instructor ...
$(BIN)/.installed-%: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[$*]'
	@touch $@

images: venv
	$(SOCKLAB) images

# make exits 2 for any failed recipe, so the last line says which failure it was; a script
# that must tell them apart calls $(SOCKLAB) run N itself (0 passed, 1 a check failed, 2 platform)
lab-%: venv
	@echo "$(SOCKLAB) run $* $(RUN_ARGS)"; $(SOCKLAB) run $* $(RUN_ARGS); status=$$?; \
	case $$status in \
	  0) ;; \
	  1) echo "make: lab $*: a check failed (socklab's exit status 1; make's own is 2)" >&2 ;; \
	  *) echo "make: lab $*: the platform failed, not your code (socklab's exit status $$status;" \
	          "make's own is 2): see $(SOCKLAB) doctor" >&2 ;; \
	esac; exit $$status

labs: venv
	$(SOCKLAB) labs

# make grade LAB=4 CODE=submission [FORMAT=gradescope|classroom|junit|prairielearn|json|summary OUT=file]
grade: venv
	$(SOCKLAB) grade $(or $(LAB),$(error give LAB=N)) $(or $(CODE),$(error give CODE=dir)) \
	  $(if $(FORMAT),--format $(FORMAT)) $(if $(OUT),--out $(OUT)) $(if $(SEED),--seed $(SEED)) $(LANG_ARG)

# make grade-all LAB=1 DIR=submissions JOBS=2 [OUT=dir FORMAT=gradescope,junit REDO=1 SEED=n
#                HOSTS=user@a,user@b REMOTE_ROOT=path IDENTITY=key ROSTER=roster.csv ASSIGNMENT="Lab 1"]
grade-all: $(BIN)/.installed-instructor
	$(SOCKLAB) grade-all $(or $(LAB),$(error give LAB=N)) $(or $(DIR),$(error give DIR=folder)) \
	  --jobs $(or $(JOBS),1) $(if $(OUT),--out $(OUT)) $(if $(FORMAT),--format $(FORMAT)) \
	  $(if $(REDO),--redo) $(if $(SEED),--seed $(SEED)) $(if $(HOSTS),--hosts $(HOSTS)) \
	  $(if $(REUSE),--reuse-network) \
	  $(if $(REMOTE_ROOT),--remote-root $(REMOTE_ROOT)) $(if $(IDENTITY),--identity $(IDENTITY)) \
	  $(if $(ROSTER),--roster $(ROSTER)) $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)") $(LANG_ARG)

export-student: $(BIN)/.installed-instructor
	$(SOCKLAB) export-student $(or $(DIR),$(error give DIR=folder)) $(if $(LABS),--labs $(LABS)) $(LANG_ARG)

# the message catalogs: extract socklab/locale/socklab.pot, merge it into each .po, compile the .mo;
# the same for the hidden checks' titles in locale/ (never exported to students)
# (then translate what `make i18n` leaves empty or fuzzy, and run it again)
i18n: $(BIN)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project socklab \
	  --copyright-holder "socklab" -c TRANSLATORS: -o socklab/locale/socklab.pot .
	$(BIN)/pybabel update -i socklab/locale/socklab.pot -d socklab/locale -D socklab --no-fuzzy-matching
	$(BIN)/pybabel compile -d socklab/locale -D socklab --statistics
	$(BIN)/pybabel extract -F babel-hidden.cfg --no-location --sort-output --project socklab \
	  --copyright-holder "socklab" -o locale/socklab-hidden.pot .
	$(BIN)/pybabel update -i locale/socklab-hidden.pot -d locale -D socklab-hidden --no-fuzzy-matching
	$(BIN)/pybabel compile -d locale -D socklab-hidden --statistics

test: $(BIN)/.installed-dev
	@if [ -d tests ]; then $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else echo "no tests/ here (a student template): use make lab-N"; fi

test-unit: $(BIN)/.installed-dev
	$(BIN)/python -m pytest -m "not docker" $(PYTEST_ARGS)

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check socklab tests labs
	$(BIN)/ruff format --check socklab tests
	$(BIN)/mypy socklab

bench: $(BIN)/.installed-dev
	$(BIN)/python -m socklab.bench $(SUITES)

# make demo [CC=reno,bbr LOSS_ON=data|both LOSSES=0,1,5,10,20,30 DELAY=ms SEED=n SIZE=bytes OUT=dir]
# make demo CC_LIST=1: only which congestion controls the containers' kernel offers
# CC is make's C compiler too ("cc", or the environment's): only a CC on make's command line counts
CC_ARG = $(if $(filter command line,$(origin CC)),--cc $(CC))
demo: $(BIN)/.installed-demo
	$(SOCKLAB) demo $(if $(LOSSES),--losses $(LOSSES)) $(if $(DELAY),--delay-ms $(DELAY)) \
	  $(if $(SEED),--seed $(SEED)) $(if $(SIZE),--size $(SIZE)) $(if $(OUT),--out $(OUT)) \
	  $(CC_ARG) $(if $(LOSS_ON),--loss-on $(LOSS_ON)) $(if $(CC_LIST),--cc-list)

up: venv
	$(SOCKLAB) up $(or $(LAB),1) --project $(PROJECT) $(if $(CODE),--code $(CODE))

shell: venv
	$(SOCKLAB) shell --project $(PROJECT) $(or $(S),client)

watch: venv
	$(SOCKLAB) watch --project $(PROJECT)

down: venv
	$(SOCKLAB) down --project $(PROJECT)

doctor: venv
	$(SOCKLAB) doctor $(LANG_ARG)

clean: venv
	$(SOCKLAB) clean

clean-images: venv
	$(SOCKLAB) clean --images
