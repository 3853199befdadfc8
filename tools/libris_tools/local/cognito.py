"""A Cognito user pool emulated by moto's server on loopback, for checks that need real user-pool tokens.

moto signs its tokens with RS256 under its own key (kid `dummy`) and serves the JWKS at
/<pool id>/.well-known/jwks.json; the tokens have Cognito's shapes: access tokens carry `client_id`,
`token_use: access` and `cognito:groups`, ID tokens carry the client in `aud`. Needs the project's Python venv
(boto3 comes with moto).
"""

import base64
import json
import os
import subprocess
import time
import urllib.request

import boto3

from libris_tools.net import free_port

REGION = "eu-west-1"


class LocalCognito:
    def __init__(self, moto_server):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([moto_server, "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("moto did not start")
        self.idp = boto3.client("cognito-idp", region_name=REGION, endpoint_url=self.endpoint,
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        self.pool = self.idp.create_user_pool(PoolName="libris")["UserPool"]["Id"]
        self.client_id = self.idp.create_user_pool_client(
            UserPoolId=self.pool, ClientName="libris-api", ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"])[
            "UserPoolClient"]["ClientId"]
        for group in ("librarians", "borrowers"):
            self.idp.create_group(UserPoolId=self.pool, GroupName=group)

    def settings(self):
        """The bootstrap's LIBRIS_AUTH* environment for this pool."""
        return {
            "LIBRIS_AUTH": "jwt",
            "LIBRIS_AUTH_ISSUER": f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool}",
            "LIBRIS_AUTH_AUDIENCE": self.client_id,
            "LIBRIS_AUTH_JWKS_URL": f"{self.endpoint}/{self.pool}/.well-known/jwks.json",
        }

    def user(self, username, groups):
        """Creates a user in `groups`; returns (access token, ID token, sub)."""
        password = "Libris-Passw0rd!"
        self.idp.admin_create_user(UserPoolId=self.pool, Username=username, TemporaryPassword=password,
                                   MessageAction="SUPPRESS")
        self.idp.admin_set_user_password(UserPoolId=self.pool, Username=username, Password=password,
                                         Permanent=True)
        for group in groups:
            self.idp.admin_add_user_to_group(UserPoolId=self.pool, Username=username, GroupName=group)
        tokens = self.idp.admin_initiate_auth(
            UserPoolId=self.pool, ClientId=self.client_id, AuthFlow="ADMIN_NO_SRP_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password})["AuthenticationResult"]
        return tokens["AccessToken"], tokens["IdToken"], claims(tokens["AccessToken"])["sub"]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def moto_server():
    return os.environ.get("MOTO_SERVER") or os.path.join(os.path.dirname(os.path.realpath(os.sys.executable)),
                                                         "moto_server")
