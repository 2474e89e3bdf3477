"""Export a lesson's lab or a scenario as an AWS SAM application that deploys for real."""
