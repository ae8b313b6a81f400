/* SPDX-License-Identifier: MIT */
#include "image.h"
#include "error.h"
#include "gfs.h"

#include <errno.h>
#include <inttypes.h>

/* Launches the libguestfs appliance on a scratch disk, forced to TCG: the
 * same path an image build takes, without writing anything. */
int hpci_image_selftest(char **ret_version)
{
	g_autoptr(guestfs_h) g = guestfs_create();
	struct guestfs_version *v;

	if (!g)
		return hpci_error(EIO, "cannot create a libguestfs handle");
	/* KVM exists here but the appliance hangs with it; TCG always works.
	 * The value must read as a boolean: "" makes the launch fail silently. */
	if (guestfs_set_backend_setting(g, "force_tcg", "1") < 0 ||
	    guestfs_add_drive_scratch(g, 16 << 20, -1) < 0 || guestfs_launch(g) < 0)
		return hpci_error(EIO, "libguestfs appliance did not start: %s",
				  guestfs_last_error(g) ? guestfs_last_error(g) : "unknown error");
	v = guestfs_version(g);
	if (v && ret_version)
		*ret_version = g_strdup_printf("%" PRIi64 ".%" PRIi64 ".%" PRIi64 "%s", v->major,
					       v->minor, v->release, v->extra);
	guestfs_free_version(v);
	if (guestfs_shutdown(g) < 0)
		return hpci_error(EIO, "libguestfs appliance did not shut down: %s",
				  guestfs_last_error(g));
	return 0;
}
