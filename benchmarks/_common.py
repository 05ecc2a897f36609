"""What the benchmarks share: French words to make realistic titles from."""

WORDS = ["innovation", "publique", "lab", "académie", "atelier", "design", "usagers", "numérique", "éducatif", "enseignants", "élèves", "prototype", "communauté", "facilitation", "co-développement", "service", "public", "territoire", "école", "collège", "lycée", "formation", "pédagogie", "évaluation", "expérimentation", "données", "plateforme", "réseau", "ambassadeurs"]
