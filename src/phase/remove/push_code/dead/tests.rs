use super::*;

fn js(text: &str) -> Result<Removal, Refusal> {
    remove(text, Lang::Js)
}

#[test]
fn a_push_function_its_timer_and_its_last_call_go_and_nothing_else() {
    let before = "const client = require('prom-client');\nclient.collectDefaultMetrics();\nconst URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';\nconst EVERY = Number(process.env.PUSH_INTERVAL_SECONDS || 15);\n\nconst gateway = new client.Pushgateway(URL, {}, client.register);\n\nasync function push() {\n  try {\n    await gateway.pushAdd({ jobName: 'api' });\n  } catch (err) {\n    console.error(err);\n  }\n}\n\nconst timer = setInterval(push, EVERY * 1000);\n\nfunction shutdown() {\n  clearInterval(timer);\n  server.close();\n  // One last push before we go.\n  push().finally(() => process.exit(0));\n}\n";
    let after = js(before).unwrap();
    assert_eq!(
        after.after,
        "const client = require('prom-client');\nclient.collectDefaultMetrics();\n\nfunction shutdown() {\n  server.close();\n  process.exit(0);\n}\n"
    );
    assert!(after.mentions.is_empty(), "{:?}", after.mentions);
}

#[test]
fn a_try_left_with_one_side_is_unwrapped_in_the_files_indentation() {
    let before = "async function job() {\n\ttry {\n\t\tawait gateway.pushAdd({ jobName: 'a' });\n\t} finally {\n\t\tdone();\n\t}\n}\nconst gateway = new Pushgateway(URL);\n";
    assert_eq!(js(before).unwrap().after, "async function job() {\n\tdone();\n}\n");
    let py = "def run():\r\n    try:\r\n        work()\r\n        more()\r\n    finally:\r\n        push_to_gateway(GW, job=\"a\")\r\n";
    assert_eq!(
        remove(py, Lang::Python).unwrap().after,
        "def run():\r\n    work()\r\n    more()\r\n"
    );
    // With a handler, only the `finally` goes.
    let handled = "try:\n    work()\nexcept OSError:\n    log()\nfinally:\n    push_to_gateway(GW, job='a')\n";
    assert_eq!(
        remove(handled, Lang::Python).unwrap().after,
        "try:\n    work()\nexcept OSError:\n    log()\n"
    );
}

#[test]
fn a_gateway_still_used_elsewhere_leaves_the_file_to_a_person_naming_the_line() {
    let before = "const gateway = new client.Pushgateway(URL);\nsetInterval(() => gateway.pushAdd({ jobName: 'a' }), 1000);\napp.get('/flush', async (req, res) => res.json(await gateway.pushAdd({ jobName: 'a' })));\n";
    let refusal = js(before).unwrap_err();
    assert_eq!(refusal.line, 3, "{refusal:?}");
    assert!(refusal.reason.contains("`gateway`"), "{refusal:?}");
    // A string spanning lines inside the body to unwrap would change if dedented.
    let py = "try:\n    print('''a\n  b''')\nfinally:\n    push_to_gateway(GW, job='a')\n";
    assert_eq!(remove(py, Lang::Python).unwrap_err().line, 3);
    // No push call read: nothing to remove, said so.
    assert!(js("const a = 1;\n").is_err());
}

#[test]
fn python_names_only_the_push_read_go_and_prose_about_it_is_pointed_at() {
    let before = "\"\"\"Pushes its counters.\"\"\"\nimport os\nimport logging\nfrom prometheus_client import Counter, push_to_gateway\n\nGW = os.environ.get(\"PUSHGATEWAY\", \"pushgateway:9091\")\nlog = logging.getLogger(__name__)\nlogging.basicConfig()\n\ndef push():\n    \"\"\"Push now.\"\"\"\n    log.info(\"pushing\")\n    push_to_gateway(GW, job=\"a\")\n\ndef main():\n    push()\n    print(f\"done, sent to {GW}\")\n";
    let after = remove(before, Lang::Python).unwrap();
    // `GW` is still read by the f-string: it stays, and the line is pointed at.
    assert_eq!(
        after.after,
        "\"\"\"Pushes its counters.\"\"\"\nimport os\nimport logging\nfrom prometheus_client import Counter\n\nGW = os.environ.get(\"PUSHGATEWAY\", \"pushgateway:9091\")\nlogging.basicConfig()\n\ndef main():\n    print(f\"done, sent to {GW}\")\n"
    );
    assert_eq!(after.mentions, [1, 6]);
}

#[test]
fn a_push_loop_goes_with_its_thread_but_never_on_its_own() {
    let threaded = "import threading\nimport time\n\nfrom prometheus_client import push_to_gateway\n\n\ndef push_forever():\n    while True:\n        push_to_gateway(GW, job='a')\n        time.sleep(5)\n\n\n@app.on_event('startup')\ndef start():\n    threading.Thread(target=push_forever, daemon=True).start()\n\n\n@app.get('/')\ndef root():\n    return 'ok'\n";
    assert_eq!(
        remove(threaded, Lang::Python).unwrap().after,
        "@app.get('/')\ndef root():\n    return 'ok'\n"
    );
    // The script's own main loop: without it the script would end.
    let script = "from prometheus_client import push_to_gateway\nimport time\n\nstart_http_server(8000)\nwhile True:\n    push_to_gateway(GW, job='a')\n    time.sleep(5)\n";
    assert_eq!(remove(script, Lang::Python).unwrap_err().line, 5);
    // A route whose body was only the push keeps its route: a person decides.
    let route = "from prometheus_client import push_to_gateway\n\n@app.post('/flush')\ndef flush():\n    push_to_gateway(GW, job='a')\n";
    assert_eq!(remove(route, Lang::Python).unwrap_err().line, 4);
}
