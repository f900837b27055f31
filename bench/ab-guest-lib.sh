# Set-up shared by the guest sides of bench/ab-*.sh (sourced in the guest after log and die are defined): the virtio
# disk formatted and mounted at $STATE, RadosGW started on the guest's loopback (its env sourced), the bucket $BUCKET
# created and the daemon's configuration written to $STATE/s3block.json.
ab_setup() {
  mount -o remount,size=85% /tmp
  modprobe virtio_blk || die "modprobe virtio_blk"
  for _ in $(seq 1 100); do [ -b /dev/vda ] && break; sleep 0.1; done
  mkfs.ext4 -q -F /dev/vda && mkdir -p "$STATE" && mount /dev/vda "$STATE" || die "state disk"
  bash "$S3BLOCK_REPO/tests/localstack/radosgw.sh" start /tmp/rgw >/tmp/rgw.log 2>&1 || { tail -n 30 /tmp/rgw.log; die "radosgw"; }
  # shellcheck disable=SC1091
  . /tmp/rgw/env
  curl -sf -o /dev/null -X PUT -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --aws-sigv4 "aws:amz:$S3BLOCK_TEST_S3_REGION:s3" \
    --user "$S3BLOCK_TEST_S3_ACCESS_KEY:$S3BLOCK_TEST_S3_SECRET_KEY" "$S3BLOCK_TEST_S3_ENDPOINT/$BUCKET" || die "bucket"
  cat >"$STATE/s3block.json" <<JSON
{
  "Store": { "Kind": "s3", "S3": { "ServiceUrl": "$S3BLOCK_TEST_S3_ENDPOINT", "Bucket": "$BUCKET",
    "AccessKey": "$S3BLOCK_TEST_S3_ACCESS_KEY", "SecretKey": "$S3BLOCK_TEST_S3_SECRET_KEY", "Region": "$S3BLOCK_TEST_S3_REGION" } },
  "Daemon": { "StateDirectory": "$STATE/s3block" }
}
JSON
}
