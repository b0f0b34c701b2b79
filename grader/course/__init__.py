"""Course layer: what students and CI receive (bundle, init-ci, the Gradescope zip)."""
