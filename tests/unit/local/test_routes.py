"""Route selection as API Gateway HTTP APIs do it."""

from local.routes import HttpRouteTable, Route


def route(key: str) -> Route:
    return Route(
        api_logical_id="Api",
        route_key=key,
        function_logical_id=key,
        authorization_type="NONE",
        authorizer=None,
        scopes=(),
    )


TABLE = HttpRouteTable(
    tuple(
        route(key)
        for key in [
            "GET /users/me",
            "GET /users/{username}",
            "GET /users/{username}/posts",
            "ANY /files/{proxy+}",
            "GET /files/readme",
            "POST /posts",
        ]
    )
)


def test_exact_route_wins_over_parameter():
    assert TABLE.match("GET", "/users/me").route.route_key == "GET /users/me"


def test_parameter_route_extracts_path_parameters():
    match = TABLE.match("GET", "/users/alice/posts")
    assert (match.route.route_key, match.path_parameters) == ("GET /users/{username}/posts", {"username": "alice"})


def test_greedy_route_takes_the_rest_of_the_path_unless_an_exact_route_matches():
    assert TABLE.match("DELETE", "/files/a/b/c").path_parameters == {"proxy": "a/b/c"}
    assert TABLE.match("GET", "/files/readme").route.route_key == "GET /files/readme"


def test_other_method_or_path_has_no_route_without_default():
    assert TABLE.match("DELETE", "/users/alice") is None
    assert TABLE.match("GET", "/nowhere") is None


def test_default_route_catches_everything_else():
    table = HttpRouteTable((route("GET /health"), route("$default")))
    assert table.match("GET", "/health").route.route_key == "GET /health"
    assert table.match("PATCH", "/anything/else").route.route_key == "$default"
