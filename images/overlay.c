/* SPDX-License-Identifier: MIT */
/* Per-cell disks: a qcow2 overlay on the cached, read-only base image. */
#include "image.h"
#include "image-private.h"
#include "error.h"
#include "fsutil.h"
#include "gfs.h"

#include <errno.h>

int hpci_image_overlay(const struct hpci_image *image, const char *path)
{
	return hpci_overlay_on(image->path, path);
}

int hpci_overlay_on(const char *backing_file, const char *path)
{
	g_autofree char *backing = g_canonicalize_filename(backing_file, NULL);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(guestfs_h) g = NULL;

	if (!hpci_is_file(backing))
		return hpci_error(ENOENT, "cannot create overlay '%s': image '%s' is missing", path,
				  backing);
	if (!hpci_is_dir(dir))
		return hpci_error(ENOENT, "cannot create overlay '%s': no directory '%s'", path,
				  dir);
	g = guestfs_create();
	if (!g)
		return hpci_error(EIO, "cannot create a libguestfs handle");
	guestfs_set_error_handler(g, NULL, NULL);
	/* qemu-img runs on the host: no appliance is launched for this. */
	if (guestfs_disk_create(g, path, "qcow2", -1, GUESTFS_DISK_CREATE_BACKINGFILE, backing,
				GUESTFS_DISK_CREATE_BACKINGFORMAT, "qcow2", -1) < 0) {
		g_autofree char *detail = hpci_gfs_message(guestfs_last_error(g));

		return hpci_error(EIO, "cannot create overlay '%s' on image '%s': %s", path,
				  backing, detail);
	}
	return 0;
}
