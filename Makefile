# pg_vtj — PGXS build of the extension (the primary build; CMake wraps it).
#
#   make && make install        build and install into the server that pg_config names
#   make PG_CONFIG=/path/pg_config
#   make WERROR=1               warnings are errors (CI)
#
# One version source: VERSION. The control file, META.json and the install
# script pg_vtj--$(EXTVERSION).sql are generated from it; the install script is the
# concatenation of sql/install/*.sql in name order (one file per layer).

EXTENSION  = pg_vtj
MODULE_big = pg_vtj
EXTVERSION := $(shell cat VERSION)

# Every .cpp under src/ goes into the module: pure C++ layers (hetu, wire,
# decode) and the PostgreSQL glue (pg, worker).
SOURCES   := $(sort $(wildcard src/*/*.cpp))
OBJS       = $(SOURCES:.cpp=.o)

# Not INSTALL_SCRIPT nor VERSION: PGXS defines both (INSTALL_SCRIPT is its
# "install -c -m 755" command, so a rule named after it overwrote /usr/bin/install).
VTJ_INSTALL_SQL  = $(EXTENSION)--$(EXTVERSION).sql
UPGRADE_SCRIPTS = $(wildcard sql/$(EXTENSION)--*--*.sql)
DATA_built = $(VTJ_INSTALL_SQL)
DATA       = $(UPGRADE_SCRIPTS)
EXTRA_CLEAN = $(EXTENSION).control META.json $(OBJS:.o=.d)

PG_CONFIG ?= pg_config
PG_INCLUDE_SERVER := $(shell $(PG_CONFIG) --includedir-server)

# PostgreSQL's headers are not clean under -Wextra in C++: include them as
# system headers so warnings stay errors for our own code only.
PG_CPPFLAGS = -Isrc -isystem $(PG_INCLUDE_SERVER) -DPG_VTJ_VERSION='"$(EXTVERSION)"'
# -MMD: header dependencies, so a changed header rebuilds what includes it.
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -MMD -MP
ifeq ($(WERROR),1)
PG_CXXFLAGS += -Werror
endif
SHLIB_LINK  = -lcurl -lsimdjson -lcrypto -lstdc++

# No LLVM bitcode for JIT inlining: the module is C++17 and clang-14's default
# standard would not compile it; nothing here is worth inlining into JIT code.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include $(OBJS:.o=.d)

all: $(EXTENSION).control META.json

$(EXTENSION).control: extension/$(EXTENSION).control.in VERSION
	sed 's/@VERSION@/$(EXTVERSION)/g' $< > $@

META.json: META.json.in VERSION
	sed 's/@VERSION@/$(EXTVERSION)/g' $< > $@

$(VTJ_INSTALL_SQL): $(sort $(wildcard sql/install/*.sql)) VERSION
	{ echo '-- pg_vtj $(EXTVERSION) install script, generated from sql/install/*.sql: do not edit'; \
	  printf '%s\n' '\echo Use "CREATE EXTENSION pg_vtj" to load this file. \quit'; \
	  for f in $(sort $(wildcard sql/install/*.sql)); do echo; echo "-- ==== $$f ===="; cat $$f; done; } > $@

.PHONY: print-version
print-version:
	@echo $(EXTVERSION)
