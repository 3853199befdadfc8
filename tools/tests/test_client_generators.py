from libris_tools.checks import openapi_generator, python_client

# What openapi-python-client 0.29.1 printed for the spec whose Problem.code was `allOf: [{$ref}, {description}]`.
DROPPED_PROBLEM = """Generating /tmp/x/libris_client
WARNING parsing GET /authors within authors.

Cannot parse response for status code 400 (Could not find reference in parsed models or enums), response will be omitted from generated client

Unable to process schema /components/schemas/Problem:

Cannot take allOf a non-object

Failure to process schema has resulted in the removal of:
/components/schemas/Problem
"""


def test_openapi_python_client_dropping_a_schema_or_a_response_is_a_warning():
    warned = python_client.generator_warnings(DROPPED_PROBLEM)
    assert warned[0] == "WARNING parsing GET /authors within authors."
    assert "Unable to process schema /components/schemas/Problem:" in warned
    assert any("has resulted in the removal" in line for line in warned)
    assert python_client.generator_warnings("Generating /tmp/x/libris_client\n") == []


def test_only_the_listed_openapi_generator_warning_passes_and_only_for_its_target():
    benign = "[main] WARN  o.o.codegen.utils.ModelUtils - Failed to get the schema name: null"
    lost = "[main] WARN  o.o.codegen.InlineModelResolver - allOf schema `null` containing multiple types (not model) is not supported at the moment."
    info = "[main] INFO  o.o.codegen.TemplateManager - writing file /tmp/j/src/main/java/org/openapitools/client/ApiException.java"
    log = "\n".join([info, benign, lost])
    assert openapi_generator.unexplained_warnings(log, "python") == [lost]
    assert openapi_generator.unexplained_warnings(log, "java") == [benign, lost]
    assert openapi_generator.unexplained_warnings(info, "java") == []


def test_a_java_exception_in_the_generator_log_is_unexplained():
    trace = "java.lang.NullPointerException: Cannot invoke \"String.length()\"\n\tat org.openapitools.codegen.X.y(X.java:1)"
    assert len(openapi_generator.unexplained_warnings(trace, "java")) == 2


def test_each_schema_needs_its_model_file_under_the_targets_naming(tmp_path):
    models = tmp_path / "openapi_client" / "models"
    models.mkdir(parents=True)
    (models / "book_page.py").write_text("")
    assert openapi_generator.missing_models(["BookPage", "Problem"], tmp_path, "python") == ["Problem"]
    java = tmp_path / openapi_generator.JAVA_MODELS
    java.mkdir(parents=True)
    (java / "Problem.java").write_text("")
    assert openapi_generator.missing_models(["BookPage", "Problem"], tmp_path, "java") == ["BookPage"]
