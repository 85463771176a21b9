"""Print an operation's status once, for the cold-start figure.

Usage: cold_status.py CLIENT NAMESPACE NAME OPERATION_ID

CLIENT is requests, sdk (f5xc-py-substrate) or opstatus. Each prints one
line per site with the site and its status word, and imports only the
client it uses. The server comes from F5XC_API_URL (without /api),
F5XC_API_TOKEN and F5XC_CACERT.
"""

import os
import sys

STATUS_PATH = "/api/cdn/namespaces/{namespace}/http_loadbalancer/get-service-operation-status"


def print_with_requests(namespace: str, name: str, op_id: int) -> None:
    import requests

    url = os.environ["F5XC_API_URL"] + STATUS_PATH.format(namespace=namespace)
    response = requests.post(
        url,
        json={"namespace": namespace, "name": name, "service_op_id": op_id},
        headers={"Authorization": "APIToken " + os.environ["F5XC_API_TOKEN"]},
        verify=os.environ.get("F5XC_CACERT") or True,
        timeout=30,
    )
    response.raise_for_status()
    for item in response.json()["items"]:
        print(item["purge"]["site"], item["status"])


def print_with_sdk(namespace: str, name: str, op_id: int) -> None:
    import ssl

    import httpx
    from f5xc_py_substrate import Client

    ca_file = os.environ.get("F5XC_CACERT")
    verify = ssl.create_default_context(cafile=ca_file) if ca_file else True
    api = Client(
        tenant_url=os.environ["F5XC_API_URL"],
        token=os.environ["F5XC_API_TOKEN"],
        http_client=httpx.Client(verify=verify, timeout=30.0),
    )
    body = {"namespace": namespace, "name": name, "service_op_id": op_id}
    response = api.http_loadbalancer.get_service_operation_httplb_cache_enabled(namespace, body=body)
    for item in response.items or []:
        print(item.purge.site if item.purge else None, item.status)


def print_with_opstatus(namespace: str, name: str, op_id: int) -> None:
    import opstatus

    with opstatus.Client(
        api_url=os.environ["F5XC_API_URL"],
        api_token=os.environ["F5XC_API_TOKEN"],
        ca_file=os.environ.get("F5XC_CACERT") or None,
    ) as client:
        status = client.get_status(namespace, name, op_id)
    for item in status.items:
        print(item.purge.site if item.purge else None, item.status)


CLIENTS = {
    "requests": print_with_requests,
    "sdk": print_with_sdk,
    "opstatus": print_with_opstatus,
}

if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in CLIENTS:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    CLIENTS[sys.argv[1]](sys.argv[2], sys.argv[3], int(sys.argv[4]))
