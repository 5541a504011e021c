// The one place the PostgreSQL/glue layer includes the server's C headers.
// Files that include this are "glue": see src/pg/boundary.hpp for the rules.
#pragma once
#ifdef PG_VTJ_CPP_ONLY
#error "pure C++ headers were included before the PostgreSQL glue; split the file"
#endif

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "utils/guc.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "catalog/pg_type.h"
}

// postgres.h defines these as macros and they break the C++ standard library.
#ifdef snprintf
#undef snprintf
#endif
#ifdef vsnprintf
#undef vsnprintf
#endif
#ifdef printf
#undef printf
#endif
#ifdef sprintf
#undef sprintf
#endif
#ifdef fprintf
#undef fprintf
#endif
