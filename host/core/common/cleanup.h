/*
** cleanup: temporary folders the process must not leave behind, whatever way
** it ends. fs.tmpdir registers each folder it makes; the CLI removes what is
** still registered when the command ends, normally, by an error or by
** SIGINT/SIGTERM (which unwind through Lua first, see interrupt.h).
*/
#ifndef HOIST_CLEANUP_H
#define HOIST_CLEANUP_H

/* Registers path (copied); 0, or -1 when out of memory (the folder is then just not swept). */
int hoist_cleanup_add(const char *path);
/* Forgets path (it was removed, or is to be kept). */
void hoist_cleanup_forget(const char *path);
/* Removes every registered folder (best effort) and forgets them. */
void hoist_cleanup_run(void);

#endif
