"""Interactive web maps (Folium/Leaflet), readable offline."""
