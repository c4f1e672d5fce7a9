-- tests/integration/harness_fake_adapter.lua — runs the fake v1 server (build/.../fake_v1) as the system under test; n1 is the only serving node.
local bin = os.getenv("RAPAT_FAKE_V1")
return {
  name = "fake_v1",
  protocol = "v1",
  start = function(node, cluster)
    local argv = { bin or (cluster.root .. "/build/default/tests/integration/fake_v1"),
                   "--listen", node.ip .. ":" .. node.client_port, "--id", node.id,
                   "--leader", "n1", "--state", node.data_dir .. "/state.json" }
    if node.tls then
      for _, a in ipairs({ "--tls", node.tls.ca, node.tls.cert, node.tls.key }) do argv[#argv + 1] = a end
    end
    if os.getenv("RAPAT_FAKE_BUG") then
      argv[#argv + 1] = "--bug"; argv[#argv + 1] = os.getenv("RAPAT_FAKE_BUG")
    end
    return { argv = argv, env = { RAPAT_FAKE_ENV = "hello-" .. node.id } }
  end,
  client_url = function(node)
    return (node.tls and "https://" or "http://") .. node.ip .. ":" .. node.client_port
  end,
}
