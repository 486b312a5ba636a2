/*
 * libload.h - a shared library loaded when first needed.
 *
 * Libraries that bring dozens of others with them (librrd: cairo, pango,
 * ICU...; libcurl: TLS, Kerberos, LDAP, SSH...) cost every start of
 * bounced and bouncectl, also of the commands that never use them.  The
 * programs are not linked with them: the first caller that needs one
 * loads it by the soname the build found and gets its functions in a
 * table, each at its place (LIBLOAD_SYM).
 */
#ifndef BOUNCED_LIBLOAD_H
#define BOUNCED_LIBLOAD_H

#include <stddef.h>

struct libload_sym {
	const char *name;	/* the function's name in the library */
	size_t off;		/* where its pointer goes in the table */
};

/* LIBLOAD_SYM - the entry of function SYM, kept in MEMBER of TYPE */
#define LIBLOAD_SYM(type, member, sym) { #sym, offsetof(type, member) }

/* libload_open - dlopen SONAME (local, every symbol bound now) and set
   each of the N pointers SYMS name in TABLE; 0, or -1 with why in WHY
   ("cannot load SONAME: ... (is the package of WHAT installed?)", or
   the function it lacks).  The handle stays open for the process's
   life. */
int libload_open(const char *soname, const char *what,
		 const struct libload_sym *syms, size_t n, void *table,
		 char *why, size_t whylen);

#endif
