"""HTTP plumbing that knows no face: request reading, the JSON response, the body limit, budgets, the Face type."""
