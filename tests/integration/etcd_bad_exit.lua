-- tests/integration/etcd_bad_exit.lua — a broken etcd adapter for tests: its start command exits at once (an unknown flag), so rapat must end with exit 4 and say why.
local adapter = require("harness.adapters.etcd")
local start = adapter.start
adapter.start = function(node, cluster)
  local cmd = start(node, cluster)
  cmd.argv[#cmd.argv + 1] = "--no-such-flag-for-rapat"
  return cmd
end
return adapter
