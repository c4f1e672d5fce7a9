-- tests/integration/etcd_bad_garbage.lua — a broken etcd adapter for tests: it polls the peer port, which answers "404 page not found" text, so no node ever becomes ready and rapat must end with exit 4.
local adapter = require("harness.adapters.etcd")
local ready = adapter.ready
adapter.ready = function(node, http)
  local wrong = {}
  for k, v in pairs(node) do wrong[k] = v end
  wrong.client_port = node.peer_port
  return ready(wrong, http)
end
return adapter
