//! The escalation catalog's methods added since the first catalog (Datadog's pathfinding.cloud paths and
//! Rhino Security Labs' method 26), one firing and one quiet case each, the "most specific method"
//! report, and the `${aws:username}` self-scoping of `CreateAccessKey` / `CreateLoginProfile` /
//! `UpdateLoginProfile`.
//!
//! Sources (each case names its own):
//! - [PF <id>] <https://pathfinding.cloud/paths/<id>> (data: github.com/DataDog/pathfinding.cloud
//!   `data/paths/<service>/<id>.yaml`, `permissions.required`; the paths published later from the newer
//!   `data/paths/aws/<service>/<id>.yaml` layout).
//! - [RHINO26] Rhino Security Labs, "AWS IAM Privilege Escalation – Methods and Mitigation",
//!   <https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/>, method 26:
//!   `lambda:UpdateFunctionConfiguration` attaches a layer to an existing function; the layer's code runs
//!   with the function's role (Lambda API `UpdateFunctionConfiguration`, `Layers`:
//!   <https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html>).
//! - [VARS] IAM User Guide, "IAM policy elements: Variables and tags",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>: policy variables
//!   are replaced with values from the request's context; `aws:username` is the caller's user name.
//! - [OWNKEYS] IAM User Guide, "Permissions required to manage access keys",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/access-keys_required-permissions.html>: "To create
//!   access keys for your own IAM user" the policy allows `iam:CreateAccessKey` on
//!   `arn:aws:iam::*:user/${aws:username}`.
//! - [VER] reference_policies_elements_version.html: without `Version` 2012-10-17, `${aws:username}` is a
//!   literal string.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tripline_core::policy::{escalation_combos, most_specific, newly_enabled_combos, Policy};

fn policy(statements: &str) -> Policy {
    Policy::from_json_str(&format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#))
        .unwrap_or_else(|e| panic!("bad test policy {statements}: {e:?}"))
}

/// `actions` allowed on every resource.
fn allow(actions: &[&str]) -> String {
    let list: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]"#,
        list.join(",")
    )
}

/// What the rules report: the most specific enabled methods.
fn reported(p: &Policy) -> Vec<String> {
    most_specific(escalation_combos(p))
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn enabled(p: &Policy) -> Vec<String> {
    escalation_combos(p).into_iter().map(|c| c.id).collect()
}

/// `(source, method id, firing statements, quiet statements)`: the firing policy must report the method
/// (as the most specific), the quiet one must not enable it at all.
#[rustfmt::skip]
fn method_cases() -> Vec<(&'static str, &'static str, String, String)> {
    vec![
        // [PF apprunner-002] apprunner:UpdateService on an existing service with an instance role.
        ("apprunner-002", "UpdateExistingAppRunnerService", allow(&["apprunner:UpdateService"]),
         // quiet: only on S3 objects (App Runner's action cannot target them).
         r#"[{"Effect":"Allow","Action":"apprunner:UpdateService","Resource":"arn:aws:s3:::b/*"}]"#.into()),
        // [PF bedrock-001] PassRole + a new AgentCore code interpreter + session + invoke.
        ("bedrock-001", "PassExistingRoleToNewBedrockCodeInterpreterThenInvoke",
         allow(&["iam:PassRole", "bedrock-agentcore:CreateCodeInterpreter", "bedrock-agentcore:StartCodeInterpreterSession", "bedrock-agentcore:InvokeCodeInterpreter"]),
         // quiet: no role can be passed.
         allow(&["bedrock-agentcore:CreateCodeInterpreter"])),
        // [PF bedrock-002] a session on an existing code interpreter that has a role.
        ("bedrock-002", "InvokeExistingBedrockCodeInterpreterSession",
         allow(&["bedrock-agentcore:StartCodeInterpreterSession", "bedrock-agentcore:InvokeCodeInterpreter"]),
         // quiet: a session cannot be started.
         allow(&["bedrock-agentcore:InvokeCodeInterpreter"])),
        // [PF cloudformation-002] UpdateStack on a stack with a privileged service role.
        ("cloudformation-002", "UpdateExistingCloudFormationStack", allow(&["cloudformation:UpdateStack"]),
         r#"[{"Effect":"Allow","Action":"cloudformation:UpdateStack","Resource":"*"},{"Effect":"Deny","Action":"cloudformation:UpdateStack","Resource":"*"}]"#.into()),
        // [PF cloudformation-004] PassRole + UpdateStackSet.
        ("cloudformation-004", "PassExistingRoleToUpdatedCloudFormationStackSet",
         allow(&["iam:PassRole", "cloudformation:UpdateStackSet"]),
         allow(&["cloudformation:UpdateStackSet"])),
        // [PF codebuild-002] StartBuild of an existing project (buildspec override).
        ("codebuild-002", "StartBuildOfExistingCodeBuildProject", allow(&["codebuild:StartBuild"]),
         allow(&["codebuild:BatchGetBuilds"])),
        // [PF codebuild-003] StartBuildBatch of an existing project.
        ("codebuild-003", "StartBuildBatchOfExistingCodeBuildProject", allow(&["codebuild:StartBuildBatch"]),
         allow(&["codebuild:BatchGetBuildBatches"])),
        // [PF datapipeline-001] PassRole + create, define and activate a pipeline.
        ("datapipeline-001", "PassExistingRoleToNewDataPipelineThenActivate",
         allow(&["iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline"]),
         allow(&["iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"])),
        // [PF ecs-001] PassRole + CreateCluster + RegisterTaskDefinition + CreateService.
        ("ecs-001", "PassExistingRoleToNewECSServiceOnNewCluster",
         allow(&["iam:PassRole", "ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:CreateService"]),
         allow(&["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:CreateService"])),
        // [PF ecs-002] PassRole + CreateCluster + RegisterTaskDefinition + RunTask.
        ("ecs-002", "PassExistingRoleToNewECSTaskOnNewCluster",
         allow(&["iam:PassRole", "ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:RunTask"]),
         allow(&["iam:PassRole", "ecs:CreateCluster", "ecs:RunTask"])),
        // [PF glue-004] PassRole + CreateJob + CreateTrigger (no StartJobRun needed).
        ("glue-004", "PassExistingRoleToNewGlueJobWithTrigger",
         allow(&["iam:PassRole", "glue:CreateJob", "glue:CreateTrigger"]),
         allow(&["iam:PassRole", "glue:CreateJob"])),
        // [PF glue-006] PassRole + UpdateJob + CreateTrigger.
        ("glue-006", "PassExistingRoleToUpdatedGlueJobWithTrigger",
         allow(&["iam:PassRole", "glue:UpdateJob", "glue:CreateTrigger"]),
         allow(&["glue:UpdateJob", "glue:CreateTrigger"])),
        // [PF iam-003] DeleteAccessKey then CreateAccessKey for a user with two keys.
        ("iam-003", "DeleteThenCreateAccessKey", allow(&["iam:CreateAccessKey", "iam:DeleteAccessKey"]),
         allow(&["iam:DeleteAccessKey"])),
        // [PF iam-012] UpdateAssumeRolePolicy alone (a trust policy naming the caller's ARN suffices).
        ("iam-012", "UpdateRoleTrustPolicy", allow(&["iam:UpdateAssumeRolePolicy"]),
         r#"[{"Effect":"Allow","Action":"iam:UpdateAssumeRolePolicy","NotResource":"*"}]"#.into()),
        // [PF iam-014] AttachRolePolicy + sts:AssumeRole.
        ("iam-014", "AttachRolePolicyThenAssumeRole", allow(&["iam:AttachRolePolicy", "sts:AssumeRole"]),
         // quiet: AssumeRole only on S3 ARNs (STS acts on IAM roles).
         r#"[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:s3:::b"}]"#.into()),
        // [PF iam-015] AttachUserPolicy + CreateAccessKey.
        ("iam-015", "AttachUserPolicyThenCreateAccessKey", allow(&["iam:AttachUserPolicy", "iam:CreateAccessKey"]),
         // quiet: keys only for oneself ([OWNKEYS]).
         r#"[{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"*"},{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/${aws:username}"}]"#.into()),
        // [PF iam-017] PutRolePolicy + sts:AssumeRole.
        ("iam-017", "PutRolePolicyThenAssumeRole", allow(&["iam:PutRolePolicy", "sts:AssumeRole"]),
         allow(&["sts:AssumeRole"])),
        // [PF iam-018] PutUserPolicy + CreateAccessKey.
        ("iam-018", "PutUserPolicyThenCreateAccessKey", allow(&["iam:PutUserPolicy", "iam:CreateAccessKey"]),
         allow(&["iam:PutUserPolicy"])),
        // [PF iam-020] CreatePolicyVersion + UpdateAssumeRolePolicy.
        ("iam-020", "CreatePolicyVersionThenUpdateAssumeRolePolicy",
         allow(&["iam:CreatePolicyVersion", "iam:UpdateAssumeRolePolicy"]),
         allow(&["iam:CreatePolicyVersion"])),
        // [PF lambda-005] UpdateFunctionCode + AddPermission.
        ("lambda-005", "UpdateLambdaFunctionCodeThenAddPermission",
         allow(&["lambda:UpdateFunctionCode", "lambda:AddPermission"]),
         allow(&["lambda:AddPermission"])),
        // [PF sagemaker-005] lifecycle configuration injected into an existing notebook instance.
        ("sagemaker-005", "InjectSageMakerNotebookLifecycleConfig",
         allow(&["sagemaker:CreateNotebookInstanceLifecycleConfig", "sagemaker:StopNotebookInstance", "sagemaker:UpdateNotebookInstance", "sagemaker:StartNotebookInstance"]),
         allow(&["sagemaker:CreateNotebookInstanceLifecycleConfig", "sagemaker:StopNotebookInstance", "sagemaker:StartNotebookInstance"])),
        // Paths of pathfinding.cloud's newer `data/paths/aws/` layout ([PF <id>], `permissions.required`).
        // [PF batch-001] PassRole + RegisterJobDefinition (privileged jobRoleArn) + SubmitJob.
        ("batch-001", "PassExistingRoleToNewBatchJobDefinitionThenSubmit",
         allow(&["iam:PassRole", "batch:RegisterJobDefinition", "batch:SubmitJob"]),
         // quiet: no job definition can be registered.
         allow(&["iam:PassRole", "batch:SubmitJob"])),
        // [PF batch-002] SubmitJob alone, on a job definition that already has a privileged role.
        ("batch-002", "SubmitJobWithExistingBatchJobDefinition", allow(&["batch:SubmitJob"]),
         // quiet: only on S3 objects (Batch's action cannot target them).
         r#"[{"Effect":"Allow","Action":"batch:SubmitJob","Resource":"arn:aws:s3:::b/*"}]"#.into()),
        // [PF batch-003] the whole pipeline: compute environment, queue, job definition, job.
        ("batch-003", "PassExistingRoleToNewBatchPipelineThenSubmit",
         allow(&["iam:PassRole", "batch:CreateComputeEnvironment", "batch:CreateJobQueue", "batch:RegisterJobDefinition", "batch:SubmitJob"]),
         allow(&["iam:PassRole", "batch:CreateComputeEnvironment", "batch:RegisterJobDefinition", "batch:SubmitJob"])),
        // [PF bedrock-003] PassRole + a new AgentCore Runtime (endpoint, workload identity) + a command in it.
        ("bedrock-003", "PassExistingRoleToNewAgentCoreRuntimeThenRunCommand",
         allow(&["iam:PassRole", "bedrock-agentcore:CreateAgentRuntime", "bedrock-agentcore:CreateAgentRuntimeEndpoint", "bedrock-agentcore:CreateWorkloadIdentity", "bedrock-agentcore:InvokeAgentRuntimeCommand"]),
         // quiet: the workload identity the runtime needs at creation cannot be created.
         allow(&["iam:PassRole", "bedrock-agentcore:CreateAgentRuntime", "bedrock-agentcore:CreateAgentRuntimeEndpoint", "bedrock-agentcore:InvokeAgentRuntimeCommand"])),
        // [PF bedrock-004] InvokeAgentRuntimeCommand on an existing runtime or harness.
        ("bedrock-004", "RunCommandInExistingAgentCoreRuntime", allow(&["bedrock-agentcore:InvokeAgentRuntimeCommand"]),
         // quiet: every AgentCore action but this one (an unconditional Deny on all resources).
         r#"[{"Effect":"Allow","Action":"bedrock-agentcore:*","Resource":"*"},{"Effect":"Deny","Action":"bedrock-agentcore:InvokeAgentRuntimeCommand","Resource":"*"}]"#.into()),
        // [PF bedrock-006] PassRole + a new Custom Browser + session + automation stream.
        ("bedrock-006", "PassExistingRoleToNewAgentCoreBrowserThenDrive",
         allow(&["iam:PassRole", "bedrock-agentcore:CreateBrowser", "bedrock-agentcore:StartBrowserSession", "bedrock-agentcore:ConnectBrowserAutomationStream"]),
         // quiet: no role can be passed.
         allow(&["bedrock-agentcore:CreateBrowser", "bedrock-agentcore:StartBrowserSession", "bedrock-agentcore:ConnectBrowserAutomationStream"])),
        // [PF bedrock-007] session + automation stream on an existing Custom Browser with a role.
        ("bedrock-007", "DriveExistingAgentCoreBrowser",
         allow(&["bedrock-agentcore:StartBrowserSession", "bedrock-agentcore:ConnectBrowserAutomationStream"]),
         allow(&["bedrock-agentcore:StartBrowserSession"])),
        // [PF braket-001] PassRole + braket:CreateJob (hybrid job with a privileged execution role).
        ("braket-001", "PassExistingRoleToNewBraketJob", allow(&["iam:PassRole", "braket:CreateJob"]),
         // quiet: PassRole only on an S3 ARN (it acts on IAM roles).
         r#"[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:s3:::b"},{"Effect":"Allow","Action":"braket:CreateJob","Resource":"*"}]"#.into()),
        // [PF codedeploy-001] CreateDeployment + RegisterApplicationRevision + GetDeploymentConfig.
        ("codedeploy-001", "DeployToExistingCodeDeployGroup",
         allow(&["codedeploy:CreateDeployment", "codedeploy:RegisterApplicationRevision", "codedeploy:GetDeploymentConfig"]),
         // quiet: the deployment configuration cannot be read (required to create the deployment).
         allow(&["codedeploy:CreateDeployment", "codedeploy:RegisterApplicationRevision"])),
        // [PF cognitoidentity-001] PassRole + SetIdentityPoolRoles (the unauthenticated role).
        ("cognitoidentity-001", "PassExistingRoleToCognitoIdentityPool",
         allow(&["iam:PassRole", "cognito-identity:SetIdentityPoolRoles"]),
         allow(&["cognito-identity:SetIdentityPoolRoles"])),
        // [PF ecs-007] PassRole + RegisterContainerInstance + StartTask (from an instance one controls).
        ("ecs-007", "PassExistingRoleToECSTaskOnSelfRegisteredInstance",
         allow(&["iam:PassRole", "ecs:StartTask", "ecs:RegisterContainerInstance"]),
         allow(&["iam:PassRole", "ecs:RegisterContainerInstance"])),
        // [PF ecs-008] PassRole + RunTask with overrides on an existing task definition.
        ("ecs-008", "PassExistingRoleToExistingECSTaskDefinitionViaRunTask", allow(&["iam:PassRole", "ecs:RunTask"]),
         allow(&["ecs:RunTask"])),
        // [PF ecs-009] PassRole + StartTask with overrides on an existing task definition.
        ("ecs-009", "PassExistingRoleToExistingECSTaskDefinitionViaStartTask", allow(&["iam:PassRole", "ecs:StartTask"]),
         // quiet: StartTask with NotResource "*" grants it on nothing.
         r#"[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"},{"Effect":"Allow","Action":"ecs:StartTask","NotResource":"*"}]"#.into()),
        // [PF emr-001] PassRole + elasticmapreduce:RunJobFlow (a privileged instance profile).
        ("emr-001", "PassExistingRoleToNewEMRCluster", allow(&["iam:PassRole", "elasticmapreduce:RunJobFlow"]),
         allow(&["iam:PassRole", "elasticmapreduce:Describe*", "elasticmapreduce:List*"])),
        // [PF emrserverless-001] PassRole + CreateApplication + StartJobRun.
        ("emrserverless-001", "PassExistingRoleToNewEMRServerlessJobRun",
         allow(&["iam:PassRole", "emr-serverless:CreateApplication", "emr-serverless:StartJobRun"]),
         allow(&["iam:PassRole", "emr-serverless:CreateApplication"])),
        // [PF gamelift-001] PassRole + CreateBuild + RequestUploadCredentials + CreateFleet.
        ("gamelift-001", "PassExistingRoleToNewGameLiftFleet",
         allow(&["iam:PassRole", "gamelift:CreateBuild", "gamelift:CreateFleet", "gamelift:RequestUploadCredentials"]),
         // quiet: the build cannot be uploaded.
         allow(&["iam:PassRole", "gamelift:CreateBuild", "gamelift:CreateFleet"])),
        // [PF glue-007] PassRole + CreateSession + RunStatement (interactive session).
        ("glue-007", "PassExistingRoleToNewGlueSessionThenRunStatement",
         allow(&["iam:PassRole", "glue:CreateSession", "glue:RunStatement"]),
         allow(&["iam:PassRole", "glue:CreateSession"])),
        // [PF imagebuilder-001] PassRole + component + recipe + infrastructure configuration + image.
        ("imagebuilder-001", "PassExistingRoleToNewImageBuilderBuild",
         allow(&["iam:PassRole", "imagebuilder:CreateComponent", "imagebuilder:CreateImageRecipe", "imagebuilder:CreateInfrastructureConfiguration", "imagebuilder:CreateImage"]),
         allow(&["iam:PassRole", "imagebuilder:CreateComponent", "imagebuilder:CreateImageRecipe", "imagebuilder:CreateInfrastructureConfiguration"])),
        // [PF kinesisanalytics-001] PassRole + CreateApplication + StartApplication (the IAM prefix is
        // `kinesisanalytics` for the v2 API too).
        ("kinesisanalytics-001", "PassExistingRoleToNewFlinkApplication",
         allow(&["iam:PassRole", "kinesisanalytics:CreateApplication", "kinesisanalytics:StartApplication"]),
         allow(&["iam:PassRole", "kinesisanalytics:CreateApplication"])),
        // [PF omics-001] PassRole + CreateWorkflow + StartRun + s3:GetObject (the credentials come back
        // through S3).
        ("omics-001", "PassExistingRoleToNewOmicsWorkflowRun",
         allow(&["iam:PassRole", "omics:CreateWorkflow", "omics:StartRun", "s3:GetObject"]),
         allow(&["iam:PassRole", "omics:CreateWorkflow", "omics:StartRun"])),
        // [PF ssm-003] PassRole + CreateDocument + StartAutomationExecution (aws:executeScript).
        ("ssm-003", "PassExistingRoleToNewSSMAutomation",
         allow(&["iam:PassRole", "ssm:CreateDocument", "ssm:StartAutomationExecution"]),
         allow(&["iam:PassRole", "ssm:StartAutomationExecution"])),
        // [RHINO26] lambda:UpdateFunctionConfiguration (a layer on a privileged function).
        ("rhino-26", "UpdateExistingLambdaFunctionConfigurationWithLayer", allow(&["lambda:UpdateFunctionConfiguration"]),
         allow(&["lambda:GetFunctionConfiguration"])),
    ]
}

#[test]
fn every_new_method_fires_and_stays_quiet() {
    let mut bad = Vec::new();
    for (source, id, fires, quiet) in method_cases() {
        let f = policy(&fires);
        if !reported(&f).iter().any(|i| i == id) {
            bad.push(format!("{source}: {id} not reported, got {:?}", reported(&f)));
        }
        let q = policy(&quiet);
        if enabled(&q).iter().any(|i| i == id) {
            bad.push(format!("{source}: {id} enabled by the quiet policy {quiet}"));
        }
    }
    assert!(bad.is_empty(), "{} disagreements:\n{}", bad.len(), bad.join("\n"));
}

/// Every method of the catalog added since the first one has a case here (the catalog and the table
/// cannot drift apart).
#[test]
fn every_pathfinding_method_has_a_case() {
    let data: serde_json::Value = serde_json::from_str(include_str!("../data/escalation.json")).unwrap();
    let cases: Vec<&str> = method_cases().iter().map(|c| c.1).collect();
    for m in data["methods"].as_array().unwrap() {
        let src = m["source"].as_str().unwrap();
        let id = m["id"].as_str().unwrap();
        if src.starts_with("https://pathfinding.cloud/paths/") {
            let pid = m["pathfinding_id"].as_str().unwrap();
            assert!(src.ends_with(pid), "{id}: source {src} is not its path {pid}");
            assert!(cases.contains(&id), "{id} ({pid}) has no case");
        }
    }
    assert!(cases.contains(&"UpdateExistingLambdaFunctionConfigurationWithLayer"));
}

#[test]
fn the_most_specific_method_is_reported() {
    // [PF iam-003] vs [RHINO] CreateAccessKey: both enabled, the first is reported and names the second.
    let p = policy(&allow(&["iam:CreateAccessKey", "iam:DeleteAccessKey"]));
    assert!(enabled(&p).contains(&"CreateAccessKey".to_string()));
    let r = most_specific(escalation_combos(&p));
    let ids: Vec<&str> = r.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["DeleteThenCreateAccessKey"]);
    assert_eq!(r[0].also, ["CreateAccessKey"]);
    // [PF lambda-004] vs lambda-003: UpdateFunctionCode + InvokeFunction stands for UpdateFunctionCode.
    let p = policy(&allow(&["lambda:UpdateFunctionCode", "lambda:InvokeFunction"]));
    assert_eq!(reported(&p), ["UpdateAndInvokeLambdaFunction"]);
    // [PF glue-004] with glue:StartJobRun too: both glue paths are maximal (neither set contains the
    // other), both reported.
    let p = policy(&allow(&[
        "iam:PassRole",
        "glue:CreateJob",
        "glue:CreateTrigger",
        "glue:StartJobRun",
    ]));
    let mut r = reported(&p);
    r.sort();
    assert_eq!(
        r,
        [
            "PassExistingRoleToNewGlueJobThenRun",
            "PassExistingRoleToNewGlueJobWithTrigger"
        ]
    );
    // [PF iam-012] UpdateAssumeRolePolicy with sts:AssumeRole: Rhino's UpdateRolePolicyToAssumeIt.
    let p = policy(&allow(&["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"]));
    let r = most_specific(escalation_combos(&p));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].id, "UpdateRolePolicyToAssumeIt");
    assert_eq!(r[0].also, ["UpdateRoleTrustPolicy"]);
    // A change that adds DeleteAccessKey to CreateAccessKey newly enables only the more specific method.
    let old = policy(&allow(&["iam:CreateAccessKey"]));
    let new = policy(&allow(&["iam:CreateAccessKey", "iam:DeleteAccessKey"]));
    let newly: Vec<String> = most_specific(newly_enabled_combos(&old, &new))
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(newly, ["DeleteThenCreateAccessKey"]);
}

/// The newer paths nest under longer ones: a policy granting the longer path reports it and names the
/// shorter ones it stands for in `also` ([PF batch-001..003], [PF ecs-008], [PF ecs-009], [PF ecs-007],
/// [PF bedrock-006], [PF bedrock-007]).
#[test]
fn newer_paths_nest_under_the_longer_ones() {
    let report = |actions: &[&str]| -> Vec<(String, Vec<String>)> {
        most_specific(escalation_combos(&policy(&allow(actions))))
            .into_iter()
            .map(|c| (c.id, c.also))
            .collect()
    };
    let one = |id: &str, also: &[&str]| vec![(id.to_string(), also.iter().map(|s| s.to_string()).collect())];
    // [PF batch-003] the whole pipeline stands for batch-001 (a new job definition) and batch-002
    // (SubmitJob alone).
    assert_eq!(
        report(&[
            "iam:PassRole",
            "batch:CreateComputeEnvironment",
            "batch:CreateJobQueue",
            "batch:RegisterJobDefinition",
            "batch:SubmitJob"
        ]),
        one(
            "PassExistingRoleToNewBatchPipelineThenSubmit",
            &[
                "PassExistingRoleToNewBatchJobDefinitionThenSubmit",
                "SubmitJobWithExistingBatchJobDefinition"
            ]
        )
    );
    // Registering a task definition then running it stands for running an existing one with overrides
    // ([PF ecs-008] is ecs-004 without RegisterTaskDefinition; [PF ecs-009] is ecs-005 without it).
    assert_eq!(
        report(&["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"]),
        one(
            "PassExistingRoleToNewECSTaskViaRunTask",
            &["PassExistingRoleToExistingECSTaskDefinitionViaRunTask"]
        )
    );
    assert_eq!(
        report(&["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:StartTask"]),
        one(
            "PassExistingRoleToNewECSTaskViaStartTask",
            &["PassExistingRoleToExistingECSTaskDefinitionViaStartTask"]
        )
    );
    // [PF ecs-007] adds RegisterContainerInstance to ecs-009.
    assert_eq!(
        report(&["iam:PassRole", "ecs:StartTask", "ecs:RegisterContainerInstance"]),
        one(
            "PassExistingRoleToECSTaskOnSelfRegisteredInstance",
            &["PassExistingRoleToExistingECSTaskDefinitionViaStartTask"]
        )
    );
    // [PF bedrock-006] creating the browser stands for driving an existing one ([PF bedrock-007]).
    assert_eq!(
        report(&[
            "iam:PassRole",
            "bedrock-agentcore:CreateBrowser",
            "bedrock-agentcore:StartBrowserSession",
            "bedrock-agentcore:ConnectBrowserAutomationStream"
        ]),
        one(
            "PassExistingRoleToNewAgentCoreBrowserThenDrive",
            &["DriveExistingAgentCoreBrowser"]
        )
    );
    // `bedrock-agentcore:*` with PassRole: the three AgentCore paths that create a resource are reported,
    // each standing for its existing-resource variant.
    let mut r = report(&["iam:PassRole", "bedrock-agentcore:*"]);
    r.sort();
    assert_eq!(
        r,
        [
            (
                "PassExistingRoleToNewAgentCoreBrowserThenDrive".to_string(),
                vec!["DriveExistingAgentCoreBrowser".to_string()]
            ),
            (
                "PassExistingRoleToNewAgentCoreRuntimeThenRunCommand".to_string(),
                vec!["RunCommandInExistingAgentCoreRuntime".to_string()]
            ),
            (
                "PassExistingRoleToNewBedrockCodeInterpreterThenInvoke".to_string(),
                vec!["InvokeExistingBedrockCodeInterpreterSession".to_string()]
            ),
        ]
    );
}

/// `(case, statements, escalates?)` for the three actions that escalate only on another user.
#[rustfmt::skip]
fn own_user_cases() -> Vec<(&'static str, String, bool)> {
    let on = |action: &str, resource: &str| format!(r#"[{{"Effect":"Allow","Action":"{action}","Resource":{resource}}}]"#);
    let mut v = Vec::new();
    for action in ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"] {
        // [OWNKEYS] the User Guide's own "your own IAM user" policy: no escalation.
        v.push((action, on(action, r#""arn:aws:iam::*:user/${aws:username}""#), false));
        // [VARS] the account named, the key's case changed (condition keys are case-insensitive).
        v.push((action, on(action, r#""arn:aws:iam::111122223333:user/${AWS:UserName}""#), false));
        // [VARS] a path before the name: the last segment is still the caller's own name.
        v.push((action, on(action, r#"["arn:aws:iam::*:user/${aws:username}","arn:aws-cn:iam::*:user/*/${aws:username}"]"#), false));
        // Any user: escalation (another user's key or password).
        v.push((action, on(action, r#""arn:aws:iam::*:user/*""#), true));
        // The own user AND another value: the other value can name anyone.
        v.push((action, on(action, r#"["arn:aws:iam::*:user/${aws:username}","arn:aws:iam::*:user/admin"]"#), true));
        // A wildcard before the variable in the same segment: `user/*${aws:username}` matches
        // `user/eve-<name>`, another user.
        v.push((action, on(action, r#""arn:aws:iam::*:user/*${aws:username}""#), true));
        // Something after the variable: `user/${aws:username}*` matches `user/<name>-admin`.
        v.push((action, on(action, r#""arn:aws:iam::*:user/${aws:username}*""#), true));
        // Another variable: `${aws:userid}` is not the user name.
        v.push((action, on(action, r#""arn:aws:iam::*:user/${aws:userid}""#), true));
    }
    v
}

#[test]
fn own_user_resources_do_not_escalate() {
    let ids = [
        ("iam:CreateAccessKey", "CreateAccessKey"),
        ("iam:CreateLoginProfile", "CreateLoginProfile"),
        ("iam:UpdateLoginProfile", "UpdateLoginProfile"),
    ];
    let mut bad = Vec::new();
    for (action, statements, escalates) in own_user_cases() {
        let id = ids.iter().find(|(a, _)| *a == action).unwrap().1;
        let got = enabled(&policy(&statements)).iter().any(|i| i == id);
        if got != escalates {
            bad.push(format!("{action} {statements}: expected {escalates}, got {got}"));
        }
    }
    // [VER] without Version 2012-10-17 the value is the literal user name `${aws:username}`, which no
    // user can have: no escalation either.
    let literal = Policy::from_json_str(
        r#"{"Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#,
    )
    .unwrap();
    if enabled(&literal).iter().any(|i| i == "CreateAccessKey") {
        bad.push("2008-10-17 literal ${aws:username}: CreateAccessKey enabled".into());
    }
    // Other IAM actions on the own user still count: attaching a policy to oneself is escalation.
    let attach = policy(
        r#"[{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"arn:aws:iam::*:user/${aws:username}"}]"#,
    );
    if !enabled(&attach).iter().any(|i| i == "AttachUserPolicy") {
        bad.push("AttachUserPolicy on the own user: not enabled".into());
    }
    assert!(bad.is_empty(), "{} disagreements:\n{}", bad.len(), bad.join("\n"));
}
