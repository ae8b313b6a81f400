/* SPDX-License-Identifier: MIT */
#include "agent.h"
#include "error.h"
#include "json-reader.h"

#include <errno.h>
#include <json-c/json.h>

static char *request(const char *command, json_object *arguments)
{
	g_autoptr(json_object) req = json_object_new_object();

	json_object_object_add(req, "execute", json_object_new_string(command));
	if (arguments)
		json_object_object_add(req, "arguments", arguments);
	return g_strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
}

int hpci_agent_exec(struct hpci_domain *dom, const char *path, const char *const *args,
		    int timeout_s, long *ret_pid)
{
	json_object *arguments = json_object_new_object();
	json_object *argv = json_object_new_array();
	g_autoptr(json_object) reply_obj = NULL;
	json_object *ret_obj, *pid_obj;
	g_autofree char *req = NULL;
	g_autofree char *reply = NULL;
	int rc;

	for (; args && *args; args++)
		json_object_array_add(argv, json_object_new_string(*args));
	json_object_object_add(arguments, "path", json_object_new_string(path));
	json_object_object_add(arguments, "arg", argv);
	json_object_object_add(arguments, "capture-output", json_object_new_boolean(1));
	req = request("guest-exec", arguments);

	if ((rc = hpci_domain_agent_command(dom, req, timeout_s, &reply)) < 0)
		return rc;
	reply_obj = json_tokener_parse(reply);
	if (!reply_obj || !json_object_object_get_ex(reply_obj, "return", &ret_obj) ||
	    !json_object_object_get_ex(ret_obj, "pid", &pid_obj))
		return hpci_error(EPROTO, "unexpected guest-exec reply from '%s': %s",
				  hpci_domain_name(dom), reply);
	*ret_pid = (long)json_object_get_int64(pid_obj);
	return 0;
}

int hpci_agent_ping(struct hpci_domain *dom, int timeout_s)
{
	g_autofree char *req = request("guest-ping", NULL);
	g_autofree char *reply = NULL;

	return hpci_domain_agent_command(dom, req, timeout_s, &reply);
}
