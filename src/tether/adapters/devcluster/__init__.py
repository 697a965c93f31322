"""The local control plane: real etcd, kube-apiserver and friends, built from Go modules."""
