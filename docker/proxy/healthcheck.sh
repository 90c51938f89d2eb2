#!/bin/bash
# Healthy while HAProxy answers its monitor URI, which it fails when no API replica is up.
# Plain bash (/dev/tcp): the image has no HTTP client.
set -eu
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET /proxy-healthz HTTP/1.0\r\n\r\n' >&3
read -r _ status _ <&3
[ "$status" = 200 ]
