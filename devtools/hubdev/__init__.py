"""hubdev: the embedded local stack (`hub dev`) and the operator CLI. Not deployed."""
