"""Console pages: each module registers its routes on the console router and its nav entry."""
