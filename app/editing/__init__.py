"""Write routes shared by the simple resources (actors, programs, sources).

They need the editor (app.auth) and the write transaction (app.core), so they live above both
and below the routers that mount them; app.core stays free of any domain.
"""
