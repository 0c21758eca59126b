"""The domain of health supervision: registry, inspections, credit, sampling, audit."""
