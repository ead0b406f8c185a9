use baton::{
    Agent, Swarm,
    model::{ScriptedCall, ScriptedModel, ScriptedTurn},
    tool::builtin::{Add, Sleep, Sqrt},
};
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn smoke() {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent("triage", [ScriptedTurn::handoff("calc")])
            .with_agent(
                "calc",
                [
                    ScriptedTurn::calls([
                        ScriptedCall::tool("add", json!({"a": 2, "b": 3})).with_id("sum"),
                        ScriptedCall::tool("sqrt", json!({"x": 16})).with_id("root"),
                        ScriptedCall::tool("sleep_ms", json!({"ms": 50})),
                    ]),
                    ScriptedTurn::text("sum={{output:sum}} root={{output:root}}"),
                ],
            ),
    );
    let swarm = Swarm::builder()
        .tool(Add)
        .tool(Sqrt)
        .tool(Sleep)
        .agent(Agent::new("triage").with_handoffs(["calc"]))
        .agent(Agent::new("calc").with_tools(["add", "sqrt", "sleep_ms"]))
        .model(model.clone())
        .start()
        .unwrap();
    let t = std::time::Instant::now();
    let r = swarm.run("triage", "hi").await.unwrap();
    println!("{:?} {:#?}", t.elapsed(), r);
    assert_eq!(r.final_output, "sum=5 root=4");
    swarm.shutdown().await;
}
