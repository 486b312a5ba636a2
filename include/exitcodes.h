/*
 * exitcodes.h - the exit codes of bounced and bouncectl (sysexits values),
 * documented in the man pages and README.
 */
#ifndef BOUNCED_EXITCODES_H
#define BOUNCED_EXITCODES_H

#define EXIT_OK 0
#define EXIT_USAGE 64	    /* bad command line */
#define EXIT_DATAERR 65	    /* input data was unusable */
#define EXIT_NOINPUT 66	    /* an input file could not be opened */
#define EXIT_UNAVAILABLE 69 /* a server refused for good (notify-test) */
#define EXIT_SOFTWARE 70    /* internal error */
#define EXIT_CANTCREAT 73   /* an output file could not be created */
#define EXIT_IOERR 74	    /* read/write error, state store failure */
#define EXIT_TEMPFAIL 75    /* try again later (lock held, spool full) */
#define EXIT_CONFIG 78	    /* configuration error */

#endif
