import torch

from metalab.algorithms.metric.protonet import ProtoNet, class_means, squared_distances


def test_prototypes_are_class_means_of_embeddings():
    embeddings = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0]])
    labels = torch.tensor([0, 0, 1, 1])
    assert torch.equal(class_means(embeddings, labels, 2), torch.tensor([[1.0, 0.0], [0.0, 5.0]]))


def test_logits_are_negative_squared_euclidean_distances():
    queries, prototypes = torch.randn(7, 16), torch.randn(3, 16)
    assert torch.allclose(squared_distances(queries, prototypes), torch.cdist(queries, prototypes) ** 2, atol=1e-4)


def test_query_identical_to_a_prototype_gets_highest_probability():
    learner = ProtoNet().eval()
    support = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        logits = learner.adapt(support, torch.arange(3), 3)(support)
    assert logits.argmax(-1).tolist() == [0, 1, 2]
    assert torch.allclose(logits.diagonal(), torch.zeros(3), atol=1e-3)
