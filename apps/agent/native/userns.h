/* userns.c: host-side helpers for user namespaces (called by spawn.c and from src/sys/native.ts). */
#ifndef CORRAL_USERNS_H
#define CORRAL_USERNS_H
#include <stdint.h>

/* The step of corral_idmapped_tree that failed, or'ed into the errno it returns negated. */
#define IDMAP_STEP_OPEN_TREE (1 << 16)
#define IDMAP_STEP_MOUNT_SETATTR (2 << 16)

int write_id_maps(int pid, const char *uid_map, const char *gid_map);
int corral_userns_fd(const char *uid_map, const char *gid_map);
int corral_idmapped_tree(const char *path, int userns_fd);
int corral_lgetxattr(const char *path, const char *name, uint8_t *buf, int len);
int corral_lsetxattr(const char *path, const char *name, const uint8_t *buf, int len);

#endif
