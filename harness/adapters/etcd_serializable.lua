-- harness/adapters/etcd_serializable.lua — the etcd adapter with serializable (local, possibly stale) reads by default: `--db etcd_serializable` to audit that mode.
--
-- The same as harness/adapters/etcd.lua with the option reads defaulting to
-- "serializable", for plans and campaigns that cannot pass adapter options
-- through --set (the harness does not yet merge adapter.options into the
-- plan's known keys). Expect the linearizability checker to find stale reads.
return require("harness.adapters.etcd").variant("etcd-serializable", { reads = "serializable" })
