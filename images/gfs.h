/* SPDX-License-Identifier: MIT */
#ifndef HPCI_GFS_H
#define HPCI_GFS_H

/*
 * The libguestfs handle as an owned local: g_autoptr(guestfs_h) closes it
 * (shutting the appliance down) on every return path.  Only the images/
 * files that drive libguestfs include this header.
 */
#include <glib.h>
#include <guestfs.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(guestfs_h, guestfs_close)

#endif
