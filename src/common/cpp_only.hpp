// Include first in every pure C++ file (hetu, wire, decode): these layers are
// unit-tested without a server and must never see PostgreSQL's headers, whose
// setjmp-based error handling does not mix with C++ destructors.
#pragma once
#ifdef POSTGRES_H
#error "a pure C++ file of pg_vtj must not include postgres.h"
#endif
#define PG_VTJ_CPP_ONLY 1
